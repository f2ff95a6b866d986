"""Demo articles in English: key → (title, summary, Markdown body). Keys match catalog.ARTICLES."""

ARTICLES: dict[str, tuple[str, str, str]] = {
    "paid-not-received": (
        "Paid but the order shows unpaid or nothing arrived",
        (
            "You paid, but the order still says unpaid or no card key came? Most orders sort themselves out "
            "within minutes."
        ),
        """After you pay, the payment provider sends us a "payment succeeded" notice; only then does the order turn
**paid** and the card key get delivered. Most orders complete within **1–3 minutes**; at peak times or with
bank delays it can take 10–30 minutes.

## Check these first

1. **Was the money really taken?** Open your Alipay, WeChat Pay or bank app and check that the payment says
   "successful", not "processing" or "closed".
2. **Is it the right order?** The merchant order number on the receipt should match the order number you saw
   here. If you placed several orders, you may have paid for another one.
3. **Look the order up.** On the order lookup page, enter the e-mail or phone number you ordered with and your
   lookup password, then refresh.
4. **Check your mailbox,** including the spam folder: the card key may already be there.

## Paid, but the order still says "unpaid"

This is almost always a delayed payment notice. **Do not pay again.** We query the payment provider every few
minutes and deliver paid orders automatically. If nothing has arrived after 30 minutes, contact us with:

- the order number;
- a screenshot of the payment receipt (time, amount and merchant order number visible);
- the e-mail or phone number you ordered with.

Once we have confirmed the payment we deliver the card key by hand, or refund you if we cannot deliver.

## The order says "paid" but no card key

Look at the order page first: e-mails get filtered. If no card key shows there either, the product may be out of
stock, under manual review, or a direct top-up that takes time — see *Card key not delivered*.""",
    ),
    "payment-methods": (
        "Payment methods, and what to do when a payment fails",
        "Which payment methods we accept and how to get past errors on the payment page.",
        """We accept **Alipay** and **WeChat Pay**; some merchants also accept USDT and bank card express payment. The
order page shows what is available for each product.

## Why a payment fails

- **Limits:** your card or wallet has a per-payment or daily limit. Use another method or split the order.
- **Risk control:** digital goods are a high-risk category, so the provider may ask for an SMS code or block
  the payment. Confirm it is you and retry, or switch payment method.
- **Expired order:** the payment page is valid for 10 minutes. Place a new order rather than scanning an old
  QR code.
- **Network problems:** if the page hangs after you scan, check your payment app before paying again.

## Charged, but the page says the payment failed

If your payment app shows the money was taken but we show a failure, **do not pay again**. Such orders are
completed automatically within minutes; if nothing arrives within 30 minutes, follow *Paid but the order
shows unpaid*. If paying twice led to a double charge, see *I was charged twice*.""",
    ),
    "double-charge": (
        "I was charged twice (double charge)",
        "Charged twice for one order, or paid for two orders by mistake? We refund the extra payment.",
        """A double charge usually happens in one of two ways:

- **one order, charged twice:** the network stalled and the payment provider submitted the payment again;
- **two orders:** the first payment did not show as successful in time, so you ordered and paid again.

We handle both. **The extra money goes back the way it came**; you do not need to buy anything else.

## What to send us

1. Screenshots of both charges (time, amount, merchant order number);
2. our order number(s) — both, if there were two orders;
3. the e-mail or phone number you ordered with.

## What happens next

Once we have matched the two charges:

- if both orders were delivered and you want both, you keep them and nothing is refunded;
- if you only need one, the **unused** card key is voided and its amount refunded;
- if the second charge belongs to no order at all (a duplicate at the provider), we ask the provider to refund it.

Refunds usually arrive within 1–3 business days, 3–7 for credit cards — see *How long does a refund take*.

> A card key that has been redeemed cannot be taken back, so please do not use the duplicate key until we
> have finished.""",
    ),
    "card-key-not-delivered": (
        "Card key not delivered",
        "Paid but no card key? Look at the order page first, then check whether your product needs time.",
        """Most card-key products are **delivered automatically**: as soon as the payment succeeds, the key is shown
on the order page and sent to the e-mail address you entered.

## Step 1: open the order page

Use the order lookup with your order number or contact details to see the card key. **E-mails are often late
or land in spam**, but the order page is always up to date.

## Step 2: read the order status

| Status | Meaning | What to do |
| --- | --- | --- |
| Awaiting payment | We have not received the payment notice | See *Paid but the order shows unpaid* |
| Paid / awaiting delivery | Out of stock or manual handling | Usually delivered within 30 minutes |
| Processing | A direct top-up is being applied | See *Direct top-up pending* |
| Delivered | The card key was sent | View it on the order page |

## Still nothing after that

If an out-of-stock or manually reviewed order has not been delivered after **2 hours**, contact us with the
order number. We will deliver it, or refund you in full if it cannot be restocked.

For your safety, our support staff **never** ask for your payment password or SMS codes in private chats, and
never ask you to pay to "unfreeze" an order.""",
    ),
    "find-my-order": (
        "How to look up an order and retrieve your card key",
        (
            "Lost the order number or deleted the e-mail? Your contact details and lookup password bring your "
            "card keys back."
        ),
        """Card keys you bought stay in your order, so you can view them again at any time.

## With the order number

Enter it on the order lookup page. You will find it on the payment success page, in the confirmation
e-mail, or as the "merchant order number" on your Alipay or WeChat Pay receipt.

## With your contact details

No order number? Enter the **e-mail or phone number** you ordered with and the **lookup password** you chose
when ordering: every order for those details is listed.

## Forgot the lookup password

Contact us with any two of these so we can confirm it is you:

- a screenshot of the payment receipt (with the merchant order number);
- the e-mail or phone number you ordered with;
- roughly when you ordered and what.

We will then resend the order to your e-mail. For security, support **does not** paste full card keys into the
chat: keys are shown only on the order page or sent to the ordering e-mail address.""",
    ),
    "invalid-card-key": (
        "Card key invalid or already used",
        (
            "The redeem page says your card key is invalid, wrong or already used? Check how you entered it and "
            "where, then send us a screenshot."
        ),
        """When redeeming shows **"invalid card key"**, **"wrong code or PIN"** or **"this card has already been
used"**, the cause is usually how or where the key was entered; only a few keys are really bad. Check in this
order.

## 1. Check what you typed

- Copy the key from the order page, without spaces or line breaks;
- look out for look-alike characters: the digit **0** and the letter **O**, the digit **1** and the letters
  **I/l**;
- if the card has a number and a PIN, enter each in its own field.

## 2. Check the platform and region

- A key works only on its own platform: a Steam wallet code cannot be redeemed at Apple;
- gift cards are region-locked: a US Apple gift card only works with a US Apple ID — see *Wrong region or
  denomination*;
- some keys must be redeemed inside a specific app rather than on the web.

## 3. "Already used"

If you **never redeemed it** but the site says it was used:

1. check your balance or redemption history first — sometimes the page shows an error but the value arrived;
2. make sure you never sent the key or a screenshot of it to anyone;
3. keep a screenshot of the failed redemption.

## Contact us

Send the order number, a **full screenshot of the error** (with the time) and the region of the account you
redeem on. We check the key's status with the supplier: a key that was invalid or used before you bought it is
**replaced free of charge** or **refunded in full**.

> A key that was redeemed successfully cannot be refunded; do not pass the key on while we check it.""",
    ),
    "wrong-region-denomination": (
        "Wrong region or denomination",
        (
            "Bought the wrong region or value, or the redeemed amount does not match the product page? Here is "
            "what we can do."
        ),
        """Gift cards and top-up cards are usually **locked to a region and currency**. A US Apple gift card works only
with a US Apple ID; a Hong Kong Steam wallet code cannot be used on a mainland China account.

## Bought the wrong region

- **Not redeemed yet:** contact us to exchange it for the right region; we refund or charge the difference.
  Some suppliers do not allow exchanges — the product page says so.
- **Redemption failed:** a failed redemption does not use up the key, so you can still ask for an exchange.
- **Redeemed successfully:** the value is in your account and cannot be taken back or refunded.

## Amount does not match the description

If the redeemed amount is less than the value on the product page, keep screenshots of:

1. the value stated on the product page;
2. the redemption success page or your balance history.

Once we have checked, we send the difference or refund you. Note that some platforms show a foreign-currency
card converted into your local currency; that is expected.

## Before you buy

Check your account region: for an Apple ID under *Settings → Media & Purchases → View Account → Country/Region*;
for Steam under *Account details → Store country*.""",
    ),
    "redeem-steam": (
        "How to redeem a Steam Wallet code",
        "Add a Steam Wallet code to your Steam Wallet in the client or on the web — it takes a minute.",
        """Steam Wallet codes (Steam gift cards) can be redeemed in the Steam client, on the website or in the mobile
app. The value goes into your Steam Wallet, for games and in-game items.

## In the desktop client

1. Open Steam and sign in;
2. click your **user name → Account details** (top right);
3. choose **"Add funds to your Steam Wallet"**, then **"Redeem a Steam Wallet Code"**;
4. paste your code and click *Continue*.

## On the web or in the mobile app

Open the "Redeem a Steam Wallet Code" page on the Steam website, sign in and enter the code. The Steam mobile
app reaches the same page from its menu.

## Good to know

- Wallet codes are **region/currency locked**; a code for another store region may not redeem on your account;
- a new account may need a verified e-mail address before the first redemption;
- "invalid code" or "already redeemed"? See *Card key invalid or already used*;
- the balance normally appears at once; if not, restart the client.""",
    ),
    "redeem-apple": (
        "How to redeem an Apple Gift Card (App Store card)",
        "Redeem an Apple Gift Card to your Apple ID balance on iPhone, iPad or Mac.",
        """An Apple Gift Card (including the older App Store & iTunes cards) adds to your Apple ID balance, which pays
for apps, iCloud storage and subscriptions.

## On iPhone or iPad

1. Open the **App Store** and tap your photo at the top right;
2. tap **"Redeem Gift Card or Code"**;
3. choose *Enter Code Manually*, paste the 16-character code (it usually starts with X) and tap *Redeem*.

## On a Mac

Open the App Store, click your name at the bottom left, then **"Redeem Gift Card"**, and enter the code.

## Common problems

- **Wrong region:** a card only redeems to an Apple ID of the same country or region — a US card needs a US
  Apple ID; see *Wrong region or denomination*;
- **"Your account is disabled"**: contact Apple Support; we cannot change the state of your Apple ID;
- **"Code invalid"**: make sure you did not type the letter O as a zero, then see *Card key invalid or already used*;
- the balance is available immediately after redeeming; check it on your account page.""",
    ),
    "redeem-google-play": (
        "How to redeem a Google Play gift card",
        (
            "Redeem a Google Play gift card in the Play Store app or on the web; the balance pays for apps, games"
            " and subscriptions."
        ),
        """A Google Play gift card adds to your Google Play balance, which pays for apps, in-app purchases and
subscriptions.

## On an Android phone

1. Open the **Google Play Store** app;
2. tap your photo at the top right, then **"Payments & subscriptions" → "Redeem code"**;
3. enter the gift card code and tap *Redeem*.

## On the web

Open the Google Play website, click *Redeem*, sign in to your Google account and enter the code.

## Good to know

- Google Play gift cards are **country-specific**: your payments profile must be in the card's country;
- you can only change your Play country a limited number of times a year, so change it with care;
- Google may ask you to verify the purchase; "transaction cannot be completed" usually means a region or risk
  check — try again later or contact Google support;
- code invalid or already used? See *Card key invalid or already used*.""",
    ),
    "honor-of-kings-vouchers": (
        "Topping up Honor of Kings vouchers (王者荣耀 点券): redeem codes and direct top-up",
        "Honor of Kings vouchers come as a redeem code or as a direct top-up; what to fill in and how to redeem.",
        """Our Honor of Kings (王者荣耀) voucher products come in two kinds: **direct top-up** (you give your game
account and we top it up) and **redeem code** (you receive a code and redeem it on the official page). The product
title says which.

## Direct top-up: fill in the right details

- **QQ or WeChat server:** accounts do not carry over between them; pick the one your character is on;
- **the QQ number or WeChat-linked game account:** a wrong account tops up someone else, and that cannot be
  reversed;
- **Android or iOS:** on some servers vouchers do not carry over between Android and iOS.

Direct top-ups usually arrive in 5–30 minutes, later at peak times — see *Direct top-up pending*.

## Redeem code: use the official page

1. Open Tencent's official voucher redemption page (check the domain);
2. sign in with the same QQ or WeChat account as the game and choose your server;
3. enter the code and submit; the vouchers arrive within minutes.

## Not arrived?

- Check the server, system and account you entered;
- **sign out of the game and back in**, then look at your voucher balance;
- still nothing? See *Recharge failed* and have your order number and game account ready.""",
    ),
    "recharge-failed": (
        "Recharge failed: what happens and what to do",
        "A phone, game or membership top-up says recharge failed or has not arrived? Will you get your money back?",
        """Direct top-up products (phone credit, game vouchers, video memberships) are applied through the official
channels. When a **recharge failed** message appears, most cases resolve themselves.

## Where does the money go when a recharge fails?

- Order says **"recharge failed"**: we **refund automatically** to the original payment method, usually within
  1–3 business days;
- order says **"partly successful"**: only the part that did not arrive is refunded;
- order says **"processing"**: the top-up is still running — do not order again; see *Direct top-up pending*.

## Why a recharge fails

1. **Wrong account details:** a wrong phone number, QQ number or game server, or an account that does not exist;
2. **account restrictions:** the account is banned, not real-name verified, or over a top-up limit (for
   example minors' limits);
3. **maintenance:** top-ups fail while the game or carrier is under maintenance — order again afterwards;
4. **ported or inactive number:** the phone number moved to another carrier or is disconnected.

## When to contact us

- The recharge failed more than 3 business days ago and no refund has arrived;
- the order says successful but the account shows nothing (sign in again or refresh your balance first);
- you entered the wrong account and someone else was topped up (we can help request a reversal, but cannot
  promise it).

Send the order number, the account you topped up and a screenshot of the failure; we check the channel's
records and get back to you.""",
    ),
    "direct-top-up-pending": (
        "Direct top-up pending or delayed",
        "A direct top-up has said 'processing' for a long time? Normal processing times, and when to contact us.",
        """After a direct top-up is submitted, we wait for the official channel's answer. **Processing** means the
channel has not given a final result yet: the order has neither failed nor succeeded.

## Normal processing times

| Product | Usually arrives | At peak times |
| --- | --- | --- |
| Phone credit | within 10 minutes | up to 24 hours |
| Game vouchers | 5–30 minutes | up to 2 hours |
| Video/music memberships | instantly to 10 minutes | up to 1 hour |

Holidays, the start and end of the month and in-game events are peak times, and top-ups slow down.

## While it is processing, please don't

- **order again:** the first order may still succeed, and you would be topped up twice;
- change the account's linked or real-name details: that can make the top-up fail.

## When to contact us

If the order is still processing after the longest time above, contact us with the order number. We chase the
channel: a confirmed failure is refunded automatically; a confirmed success that you cannot see comes with the
channel's top-up receipt so you can query the official support.""",
    ),
    "refund-policy": (
        "Refund policy: when you can get a refund",
        "Digital goods cannot be returned once delivered; these are the cases where we refund or replace.",
        """Card keys and redeem codes can be used the moment they are delivered and cannot be taken back, so
**a delivered card key that works is not refundable on request**. We do refund or replace in these cases:

## Full refund or replacement

- **Not delivered after payment:** out of stock or not delivered in time — ask for a full refund;
- **card key invalid or already used:** confirmed by the supplier as invalid or used before you bought it —
  replaced or refunded;
- **double charge:** the extra payment is refunded in full, see *I was charged twice*;
- **direct top-up failed:** refunded automatically, see *Recharge failed*;
- **product not as described:** for example a value or region different from the product page.

## Not refundable

- A card key that was redeemed or a top-up that arrived;
- the wrong region or product bought by mistake, once the key has been redeemed;
- a key you gave to someone else who used it;
- an account banned by the game or platform for breaking its rules.

## How to ask

Choose "Refund" on the contact form, give the order number and the reason, and attach screenshots. We answer
within 24 hours. Refunds go **back to the original payment method**; see *How long does a refund take*.""",
    ),
    "refund-timeline": (
        "How long does a refund take?",
        "An approved refund goes back to the original payment method; how long it takes depends on the method.",
        """Once approved, a refund goes **back to the original payment method**; it cannot be sent anywhere else.
Typical times:

| Paid with | Refund arrives |
| --- | --- |
| Alipay balance / WeChat Pay balance | instantly to 1 business day |
| Debit card | 1–3 business days |
| Credit card | 3–7 business days, depending on your statement date |
| Huabei | back to your Huabei credit; if already repaid, to the original account |

## Following a refund

- The order page shows "refunding" or "refunded" and the refund time;
- in Alipay or WeChat Pay, open the original payment to see the refund details;
- card refunds may appear on your statement as a "return" or "reversal".

## Not arrived in time

If the order has said "refunded" for longer than the times above, ask your payment provider or bank first. If
they need proof, contact us and we will give you the refund reference number.""",
    ),
    "contact-checklist": (
        "Before contacting support: what to include",
        "Send everything at once and we can solve your problem faster, without back-and-forth.",
        """To solve your problem quickly, please include as much of this as you can in your first message:

## For every question

- **the order number** (on the payment success page, in the confirmation e-mail or in the order lookup);
- **the contact details you ordered with** (e-mail or phone number);
- **what happened,** and when.

## Depending on the problem

- **Paid but not received / charged twice:** a screenshot of the payment receipt showing time, amount and
  merchant order number;
- **card key invalid / already used:** a full screenshot of the error on the redeem page and the region of the
  account you redeem on;
- **recharge failed / not arrived:** the account you topped up, its server and system (Android/iOS);
- **refund:** why, and whether you prefer a replacement or your money back;
- **account security:** when the problem started and when you last signed in normally.

## Please never send

- payment passwords, card PINs or SMS codes — **support never asks for them**;
- unused full card keys (we can see them in your order).

You will get a tracking link for your ticket to follow its progress and add information, without an account.""",
    ),
    "account-security": (
        "Keeping your account secure",
        (
            "Strong passwords, two-step verification and a healthy suspicion of links keep your account and card "
            "keys safe."
        ),
        """Your account holds your orders and card keys; if someone takes it over, unused keys can be redeemed by them.
Protect it:

## Use a strong password

- At least **10 characters**, letters and digits;
- **never reuse a password from another site** — when another site leaks, attackers try the same password here;
- change it now and then, and always after signing in on a public computer.

## Turn on two-step verification

Under *Account settings → Security*, turn on sign-in verification. Signing in on a new device then needs a code
sent to your phone or e-mail.

## Watch out for phishing and scams

- Sign in only on our official domain; do not click "order problem" or "refund" links from private messages or
  group chats;
- our support **never** asks by phone, QQ or WeChat for verification codes or payment passwords, or to
  control your phone remotely;
- "your order is frozen, pay to unfreeze it" is always a scam — see *Beware of scams*.

## Use card keys promptly

Redeem card keys soon after buying, and do not keep unused keys in your mailbox or screenshots for long.""",
    ),
    "account-stolen": (
        "My account was stolen (hacked account)",
        "Signed in from somewhere you have never been, password changed, card keys used by someone else? Act now.",
        """If you see sign-ins you did not make, your password was changed, or card keys in your orders were redeemed
by someone else, act **immediately**:

## 1. Take back your password

- Still able to sign in: change the password now and **sign out all other devices** on the Security page;
- locked out: reset the password with "Forgot password" through your e-mail or phone number;
- the e-mail was changed too: contact support directly with the details below.

## 2. Secure your mailbox

Attackers often take the mailbox first. Change your e-mail password too, and check for forwarding rules you
did not create.

## 3. Ask us to lock the account

Choose "Account security" on the contact form and include:

- the account's e-mail or phone number;
- when and where you last signed in normally;
- a recent payment receipt (to prove the account is yours).

Once we have verified you, we lock the account, help you back in, and review the orders placed while it was
taken over.

## Card keys that were used

Keys already redeemed by the attacker cannot be taken back. We give you the order details so you can appeal to
the game or platform, and so you can report it to the police if needed.""",
    ),
    "scam-warning": (
        "Beware of scams: support never asks for codes or up-front payments",
        "Fake support agents, 'task' scams and 'pay to unfreeze your order': how they work and how to tell.",
        """Digital goods attract scammers. Remember: **real support never asks you to transfer money, never asks for
verification codes and never asks you to install screen-sharing apps.**

## Common scams

- **Fake support "refunds":** someone claims your order has a problem and needs a refund, then asks you to scan
  a code or read out a verification code. Real refunds go back automatically; you do nothing;
- **"Your order is frozen, pay a deposit to release it":** anyone asking for money before a refund or delivery
  is a scammer;
- **buying or selling card keys privately:** someone offers to buy your keys high or sell cheap, and wants the
  key or the money first;
- **task scams:** you are asked to buy gift cards and send the codes to "complete a task"; once you send them,
  the person disappears.

## How to recognise real support

- We only answer through the website's contact form and live chat, and every ticket has a reference number;
- links we send are on our own domain;
- anyone who adds you as a QQ or WeChat friend claiming to be support is not us.

## If you were scammed

Stop paying, keep the chat history and transfer receipts, and report it to the police. If the scammer took
card keys bought here, contact us: we will ask the supplier to block keys that have not been redeemed yet.""",
    ),
    "merchant-settlement": (
        "Merchant settlement and withdrawals",
        "When a merchant's sales can be withdrawn, how fees work and what to do when a withdrawal fails.",
        """For merchants selling on the platform: order revenue, less the platform fee, is credited to your merchant
balance and becomes withdrawable after the settlement period.

## Settlement period

- Regular products: **T+1** — withdrawable the business day after the order completes;
- consignment products: once the buyer confirms receipt or the order confirms automatically — see *How
  consignment works*;
- orders with an open after-sales dispute are not settled until it is resolved.

## Withdrawing

1. In *Merchant dashboard → Funds → Withdraw*, enter the amount;
2. choose a verified payout account (Alipay or a company bank account);
3. the money usually arrives within **1–2 business days**.

A fee per withdrawal depends on your merchant level, as shown in the dashboard. The minimum withdrawal is 100
yuan.

## A withdrawal failed

- The payout account name does not match your verified identity: fix the account and submit again;
- the account is frozen by risk control, usually after complaints or unusual orders — see *Consignment
  disputes and frozen funds*;
- the bank returned the transfer: check the bank branch details; returned money goes back to your balance.

For questions about a statement, export the settlement details from the dashboard and contact merchant support.""",
    ),
    "consignment-how-it-works": (
        "How consignment works: selling your card keys through us",
        "Consignment (寄售) means we sell your spare card keys for you and pay out when they sell.",
        """Consignment suits anyone with spare card keys or gift cards: you hand the keys to the platform, we list and
sell them, deliver them automatically when a buyer pays, and pay the proceeds out to you.

## Steps

1. **Submit your keys:** under *Sell on consignment*, choose the product type and value and paste the keys;
2. **checks:** we check the key format and spot-check validity for some product types;
3. **listing:** once checked, keys are listed at your price or the platform's guide price;
4. **sale:** when a buyer pays, the key is delivered automatically;
5. **payout:** after the buyer confirms or the after-sales window passes (usually 24 hours), the proceeds minus
   the fee are added to your balance.

## Rules for sellers

- Only consign keys **obtained legitimately**; keys from fraud or stolen payments are forbidden;
- do not list the same key on several platforms: complaints about keys sold twice are the seller's
  responsibility;
- if a sold key is reported "invalid" or "already used", the payout for that order is frozen while we check —
  see *Consignment disputes and frozen funds*.

## Fees

The consignment fee is 1–5 % depending on the product type; the expected payout is shown when you submit.""",
    ),
    "consignment-frozen-funds": (
        "Consignment disputes and frozen funds",
        "Why the payout for a consigned key is frozen after a buyer complains, what to send and how long it takes.",
        """When a buyer reports that a key you consigned is **invalid, already used or the wrong value**, we freeze the
payout for that order to protect the buyer, and decide once the facts are clear.

## What happens

1. We tell you about the complaint and freeze the payout of that order (other orders are not affected);
2. we ask the card issuer for the key's status and redemption history;
3. we usually decide within **3 business days**.

## What to send us

- Proof of where the key came from: a purchase record, an official issue record or a photo of the physical card;
- a statement that you did **not use the key yourself** while you held it.

## Outcomes

- The key was valid when sold and the buyer redeemed it: the payout is released and the complaint rejected;
- the key was used or invalid before the sale: the money goes back to the buyer and the seller gets a strike;
- accounts with repeated strikes or suspected stolen keys lose consignment rights and have funds frozen while
  the authorities investigate.

You can ask for a review with more evidence through merchant support within 7 days.""",
    ),
}
