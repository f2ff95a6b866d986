"""The offline zh/en sentiment scorer (pure: no database, no Django)."""

import time

import pytest

from tickets.automation.sentiment import STRONGLY_NEGATIVE, Sentiment, score

NEG, NEU, POS = "negative", "neutral", "positive"
STRONG = True

# (message, expected label, must be flagged strongly negative)
LABELLED: list[tuple[str, str, bool]] = [
    # --- threats, scam accusations, intensified insults: flagged ---
    ("你们就是骗子！！！收了钱不发卡密", NEG, STRONG),
    ("黑店，骗钱的垃圾平台，大家别来", NEG, STRONG),
    ("再不退钱我就去12315投诉你们", NEG, STRONG),
    ("已经报警了，等着吧", NEG, STRONG),
    ("我要去消协和工商局投诉你们这个黑店", NEG, STRONG),
    ("真的太垃圾了，什么破平台", NEG, STRONG),
    ("第三次联系客服了，还不发货？？？", NEG, STRONG),
    ("等了三天了，卡密到底什么时候发", NEG, STRONG),
    ("骗子平台，我要曝光你们", NEG, STRONG),
    ("气死我了！！付了钱不给卡，你们是不是骗子", NEG, STRONG),
    ("再不处理我就找律师起诉你们", NEG, STRONG),
    ("重复扣款两次，你们这是诈骗！", NEG, STRONG),
    ("已经在支付宝投诉了，等着被封吧", NEG, STRONG),
    ("垃圾客服，非常不满意，一直敷衍我", NEG, STRONG),
    ("坑人的黑心商家，不要脸", NEG, STRONG),
    ("退钱！！！", NEG, STRONG),
    ("You are scammers, I paid and got nothing!!!", NEG, STRONG),
    ("This is fraud. I'm filing a chargeback with my bank.", NEG, STRONG),
    ("WORST SERVICE EVER. Total ripoff.", NEG, STRONG),
    ("I will report you to the police if I don't get my refund today", NEG, STRONG),
    ("Third time asking, where is my gift card?! Absolutely useless support", NEG, STRONG),
    ("I've waited 3 days and still haven't received my code. Ridiculous.", NEG, STRONG),
    ("I'm furious. My lawyer will contact you.", NEG, STRONG),
    ("Give me my money back, you thieves", NEG, STRONG),
    ("Fucking scam site, never again", NEG, STRONG),
    ("Scam!!! Paid 50 USD and got NOTHING", NEG, STRONG),
    # --- unhappy, not (necessarily) alarming ---
    ("卡密还没收到，麻烦看一下", NEG, False),
    ("有点失望，发货有点慢", NEG, False),
    ("The code doesn't work, can you check?", NEG, False),
    ("I'm a bit disappointed, delivery was slow", NEG, False),
    ("无语，客服怎么一直不回", NEG, False),
    ("怎么还没到账啊", NEG, False),
    ("Why is it taking so long?", NEG, False),
    ("发货太慢了", NEG, False),
    ("Not happy with this purchase", NEG, False),
    ("不推荐这家", NEG, False),
    ("卡密有问题，用不了", NEG, False),
    ("应该不是骗子吧，怎么还没发货", NEG, False),
    ("谢谢，但是卡密还没收到", NEG, False),
    # --- operational, neutral: never flagged ---
    ("订单号DD123 卡密没收到", NEU, False),
    ("how do I redeem", NEU, False),
    ("你好，请问怎么兑换", NEU, False),
    ("请问王者荣耀点券多久到账？", NEU, False),
    ("What payment methods do you accept?", NEU, False),
    ("订单号 DD20240517 付款后页面显示处理中", NEU, False),
    ("我想申请退款，订单号 88921", NEU, False),
    ("Can I change the email on my order?", NEU, False),
    ("卡密在哪里查看", NEU, False),
    ("麻烦帮我查一下这个订单", NEU, False),
    ('Order #4411: the code shows "already redeemed"', NEU, False),
    ("支付宝付款可以吗", NEU, False),
    ("工商银行卡能付款吗", NEU, False),
    ("Is there a discount for buying 10 gift cards?", NEU, False),
    ("邮件在垃圾邮件里找到了吗", NEU, False),
    ("I haven't received the code yet, order DD555", NEU, False),
    ("第一次买，怎么使用兑换码", NEU, False),
    ("卡密提示无效", NEU, False),
    ("The page says payment pending, what should I do?", NEU, False),
    ("不是骗子吧？", NEU, False),
    ("充值失败了，钱扣了，订单号 DD777", NEU, False),
    ("PSN card 50 USD, region US, order DD9021", NEU, False),
    ("别着急，我明天再来看看", NEU, False),
    # --- positive ---
    ("谢谢，已经收到了", POS, False),
    ("非常感谢，客服很给力", POS, False),
    ("秒发，好评！", POS, False),
    ("卡密没问题，可以用了，谢谢", POS, False),
    ("五星好评，下次还会再来", POS, False),
    ("Thanks, got it!", POS, False),
    ("Perfect, the code worked. Thank you so much!", POS, False),
    ("Great service, very fast delivery", POS, False),
    ("Problem solved, appreciate your help", POS, False),
    ("客服态度很好，很耐心", POS, False),
    ("Not bad, the code arrived quickly", POS, False),
    ("不错不错，很靠谱", POS, False),
    ("收到了，没有问题，辛苦了", POS, False),
    ("之前担心是骗子，结果秒到，谢谢", POS, False),
    ("I was worried it's a scam but it arrived instantly, thanks!", POS, False),
    ("no problem, thanks", POS, False),
    ("我不会投诉的，放心", POS, False),
]


def test_table_is_large_and_balanced():
    labels = [label for _, label, _ in LABELLED]
    assert len(LABELLED) >= 60
    assert min(labels.count(NEG), labels.count(NEU), labels.count(POS)) >= 15


def test_label_accuracy_on_the_table():
    wrong = [(text, label, score(text).label, score(text).score) for text, label, _ in LABELLED]
    wrong = [row for row in wrong if row[1] != row[2]]
    accuracy = 1 - len(wrong) / len(LABELLED)
    assert accuracy >= 0.85, wrong


@pytest.mark.parametrize("text", [text for text, _, strong in LABELLED if strong])
def test_every_strongly_negative_example_is_flagged(text):
    result = score(text)
    assert result.strongly_negative, result
    assert result.score <= STRONGLY_NEGATIVE
    assert result.label == NEG
    assert result.hits  # something to show the supervisor


@pytest.mark.parametrize("text", [text for text, label, _ in LABELLED if label == NEU])
def test_no_neutral_operational_example_is_flagged(text):
    result = score(text)
    assert not result.strongly_negative, result
    assert result.score > -0.3, result  # mild negative at most


def test_the_result_shape():
    result = score("垃圾平台，骗子")
    assert isinstance(result, Sentiment)
    assert -1.0 <= result.score <= 1.0
    assert result.hits == ("垃圾", "骗子")
    with pytest.raises(AttributeError):
        result.score = 0.0  # frozen


# --- negation -----------------------------------------------------------------------------------------------


def test_negated_positive_is_negative():
    assert score("不满意").label == NEG
    assert score("满意").label == POS
    assert score("不推荐").label == NEG
    assert score("not happy").label == NEG
    assert score("I don't love it").label == NEG
    assert score("doesn't work").label == NEG


def test_negated_negative_is_not_negative():
    assert score("not bad").label != NEG
    assert score("没有问题").label != NEG
    assert score("没问题").label == POS
    assert score("这个不坑").label != NEG
    assert score("it's not a scam").label != NEG


def test_doubt_is_not_an_accusation():
    assert not score("不是骗子吧").strongly_negative
    assert not score("不是骗子吧？").strongly_negative
    assert score("不是骗子吧").label == NEU
    assert score("你们就是骗子").strongly_negative


def test_negation_window_is_short():
    assert score("不，我已经收到了，谢谢").label == POS  # 不 is a whole clause away
    assert score("not sure what happened but thanks").label == POS


def test_soft_negation_is_milder_than_negation():
    assert score("不满意").score < score("不太满意").score < 0
    assert score("not happy").score < score("not very happy").score < 0


def test_prohibition_keeps_negative_words_negative():
    assert score("别骗人了").label == NEG
    assert score("stop scamming people").label == NEG
    assert score("别着急").label == NEU


def test_words_containing_a_negation_are_not_negations():
    assert score("不过还是谢谢").label == POS
    assert score("不好意思，麻烦看一下").label == NEU
    assert score("差不多了").label == NEU
    assert score("在垃圾邮件里找到了").label == NEU


# --- intensifiers and emphasis ------------------------------------------------------------------------------


def test_intensifiers_scale_magnitude():
    assert score("垃圾").score > score("很垃圾").score > score("太垃圾了").score
    assert score("太垃圾了").score > score("真的太垃圾了").score
    assert score("good").score < score("very good").score < score("extremely good").score
    assert score("满意").score < score("非常满意").score
    assert score("失望").score < score("有点失望").score < 0  # a downtoner


def test_exclamations_amplify():
    assert score("退钱").score > score("退钱!").score > score("退钱！！！").score
    assert score("thanks").score < score("thanks!!!").score
    assert not score("退钱").strongly_negative
    assert score("退钱！！！").strongly_negative


def test_all_caps_words_amplify():
    assert score("SCAM").score < score("scam").score
    assert score("this is USELESS").score < score("this is useless").score
    assert score("WHY is this so bad").score < score("why is this so bad").score
    assert score("WHERE IS MY CODE").label == NEU  # shouting alone is not a sentiment word


def test_contrast_weights_the_second_half():
    assert score("谢谢，但是还没收到").label == NEG
    assert score("有点慢，不过还是谢谢").label == POS


# --- domain phrases -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我要打12315",
        "去工商局告你们",
        "找消费者协会",
        "我要报警",
        "这已经是第5次了",
        "等了两天了",
        "怎么还不发货",
        "I'll call the police",
        "I will do a chargeback",
        "I'm going to report you",
        "this is the third time",
        "I have been waiting for 3 days",
    ],
)
def test_domain_phrases_are_strongly_negative(text):
    assert score(text).strongly_negative, score(text)


def test_domain_phrases_need_their_context():
    assert not score("第一次购买").strongly_negative
    assert not score("第二次购买了，很快").strongly_negative
    assert not score("用工商银行付款").strongly_negative
    assert not score("充值了110元").strongly_negative
    assert score("订单号DD12315").label == NEU  # an order number, not the complaint hotline


# --- input handling -----------------------------------------------------------------------------------------


def test_html_is_stripped():
    assert score("<p>谢谢<b>客服</b></p>").label == POS
    assert score('<a href="https://scam.example/">订单</a>').label == NEU  # markup and URLs are not text
    assert score("<script>scam scam scam</script>你好").label == NEU
    assert score("&lt;3 thanks&amp;good").label == POS
    assert score("<div>骗子</div>").hits == ("骗子",)


def test_full_width_and_curly_quotes():
    assert score("退钱！！！").score == score("退钱!!!").score
    assert score("it isn\u2019t good").label == NEG


@pytest.mark.parametrize("text", ["", "   ", "\n", "<p></p>", "12345", "？？？", "......"])
def test_empty_text_is_neutral(text):
    assert score(text) == Sentiment(score=0.0, label=NEU, strongly_negative=False, hits=())


def test_none_is_treated_as_empty():
    assert score(None).label == NEU  # type: ignore[arg-type]


def test_very_long_text_stays_linear():
    """A guard against catastrophic regex backtracking, not a speed target (that is ~7 ms; see the module)."""
    score("不满意")  # the jieba dictionary loads once, on first use (不 needs it)
    text = ("订单号DD123 卡密没收到，麻烦看一下。Thanks, please check the order. 谢谢客服！" * 200)[:5000]
    assert len(text) == 5000
    timings = []
    for _ in range(3):  # the best of three: the cost of scoring, not of a busy CI machine
        started = time.perf_counter()
        result = score(text)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 1.0, timings
    assert -1.0 <= result.score <= 1.0


def test_very_long_angry_text_is_still_flagged():
    text = "你们就是骗子，垃圾平台！" * 400
    result = score(text)
    assert result.strongly_negative
    assert result.score >= -1.0
    assert result.hits == ("骗子", "垃圾")
