"""Markdown rendering and sanitising, segmentation, query normalisation (knowledge.text)."""

from __future__ import annotations

from knowledge.text import (
    html_to_text,
    index_tokens,
    normalise_query,
    query_terms,
    render_markdown,
    snippet,
    tsquery_source,
    vocabulary,
)


def test_script_tags_and_their_content_are_removed():
    html = render_markdown("Hello <script>alert('x')</script> world\n\n<img src=x onerror=alert(1)>")
    assert "<script" not in html and "alert" not in html and "onerror" not in html


def test_javascript_and_data_links_lose_their_href():
    html = render_markdown("[a](javascript:alert(1)) [b](data:text/html;base64,xx) <a href='JaVaScRiPt:x'>c</a>")
    assert "javascript" not in html.lower() and "data:" not in html
    assert html.count("<a") == 3


def test_links_get_rel_noopener_and_keep_safe_urls():
    html = render_markdown("[Steam](https://store.steampowered.com/account/redeemwalletcode) [mail](mailto:a@b.c)")
    assert 'href="https://store.steampowered.com/account/redeemwalletcode"' in html
    assert html.count('rel="noopener noreferrer"') == 2


def test_styles_iframes_and_event_handlers_are_stripped_but_markdown_survives():
    source = (
        "# Title\n\n**bold** _em_\n\n- one\n- two\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n"
        '<iframe src="https://x"></iframe><p style="color:red" onclick="x()">p</p>'
    )
    html = render_markdown(source)
    for banned in ("<iframe", "style=", "onclick", "<h1"):
        assert banned not in html
    for kept in ("<h2>Title</h2>", "<strong>bold</strong>", "<em>em</em>", "<li>one</li>", "<table>", "<td>2</td>"):
        assert kept in html


def test_plain_text_has_one_line_per_block():
    assert html_to_text(render_markdown("# A\n\nfirst &amp; para\n\n- x\n- y")) == "A\nfirst & para\nx\ny"


def test_chinese_is_segmented_into_words_and_compound_parts():
    tokens = index_tokens("微信支付重复扣款怎么办？卡密无效")
    assert {"微信", "支付", "微信支付", "重复", "扣款", "卡密", "无效"} <= set(tokens)
    assert "怎么办" not in tokens  # question words are stop words


def test_domain_words_stay_whole():
    assert "卡密" in index_tokens("兑换时提示卡密无效")
    assert "点券" in index_tokens("王者荣耀点券充值")


def test_query_terms_match_a_chinese_word_or_all_its_parts():
    assert tsquery_source(query_terms("微信支付")) == "(('微信支付') | ('微信' & '支付'))"
    assert tsquery_source(query_terms("重复扣款")) == "'重复' & '扣款'"


def test_query_terms_are_sanitised_for_to_tsquery():
    source = tsquery_source(query_terms("card's key!! & | :* (x)"), prefix_last=True)
    assert source == "'card' & 's' & 'key' & 'x':*"


def test_normalised_queries_fold_width_case_and_punctuation():
    assert normalise_query("  Card   KEY，无效！ ") == "card key 无效"
    assert normalise_query("ＲＥＦＵＮＤ") == "refund"


def test_vocabulary_keeps_words_not_stems():
    words = vocabulary("Recharge failed. The recharge FAILED again; 充值失败")
    assert words["recharge"] == 2 and words["failed"] == 2
    assert words["充值"] == 1 and words["失败"] == 1


def test_snippet_window_centres_on_the_matches():
    text = "前言。" * 60 + "兑换时提示卡密无效，请联系客服。" + "后记。" * 60
    cut = snippet(text, query_terms("卡密无效"))
    assert cut.text.startswith("…") and cut.text.endswith("…")
    assert "<mark>卡密无效</mark>" in cut.html
