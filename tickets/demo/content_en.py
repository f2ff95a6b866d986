"""English conversation scripts for the demo tickets (overseas buyers, USD gift cards, USDT payments)."""

from __future__ import annotations

from tickets.demo.script import Phrasebook, Script

SCRIPTS = {
    "payment-not-received": Script(
        subjects=(
            "Paid but no code received",
            "Payment went through, order still unpaid",
            "Charged via {channel}, nothing delivered",
        ),
        openings=(
            "Hi, I paid {amount} with {channel} for {product} at {paid_time} (order {order_no}). The money is gone "
            "but the order page still says awaiting payment and I got no code.",
            "Order {order_no}: payment confirmed on my side ({channel}), "
            "but no card key in my inbox or on the order page.",
            "Hello? I bought {product}, order {order_no}. After paying it said payment failed, yet {amount} was taken.",
        ),
        agent_first=(
            "Hi {name}, this is {agent}. I'm checking the payment "
            "callback for order {order_no} now, give me a few minutes.",
            "Hello {name}, I found order {order_no}. The payment "
            "notification seems delayed; I'm querying {channel} for you.",
        ),
        agent_ask=(
            "Could you send a screenshot of the {channel} receipt showing "
            "the transaction ID and time? We'll match it right away.",
            "To speed this up, please share the transaction hash / receipt from {channel}. Don't send any passwords.",
        ),
        follow_ups=(
            "Screenshot attached, you can see the transaction ID.",
            "It's been 30 minutes already, can you hurry please? I need it today.",
            "Here's the receipt. Thanks.",
        ),
        notes=(
            "Channel query: payment succeeded, our callback never arrived. Order completed manually.",
            "Callback timeouts from {channel} around the same time, several similar orders. Reported to engineering.",
        ),
        resolutions=(
            "Hi {name}, your payment is confirmed and the code for order {order_no} has been delivered. "
            "Please refresh the order page. Sorry for the trouble!",
            "All sorted: the payment notification was delayed, I've "
            "completed the order manually. Your code is on the order page.",
        ),
    ),
    "payment-double-charge": Script(
        subjects=("Charged twice for one order", "Double charge on {channel}", "Duplicate payment - refund please"),
        openings=(
            "I placed order {order_no} once but {channel} charged me {amount} twice. Please refund the extra charge.",
            "My connection dropped while paying for {product} and I was charged two times. Order number {order_no}.",
        ),
        agent_first=(
            "Hi {name}, {agent} here. Sorry about that! I'm checking the {channel} transactions for order {order_no}.",
            "Thanks for reporting it, {name}. Let me look for two successful payments around that time.",
        ),
        agent_ask=(
            "Please send screenshots of both charges with their transaction IDs so finance can verify them.",
            "Could you share the two transaction IDs from {channel}? Finance needs them to issue the refund.",
        ),
        follow_ups=("Both screenshots attached, they are seconds apart.", "How long will the refund take?"),
        notes=(
            "Two successful payments for the same order; the second is unmatched. Refund request filed with finance.",
            "Duplicate payment confirmed, refund queued for approval.",
        ),
        resolutions=(
            "Hi {name}, the extra {amount} has been refunded to your "
            "{channel} account. It usually arrives within 1-3 business days.",
            "Done: the duplicate charge is refunded, order {order_no} "
            "keeps one valid payment and your code is unaffected.",
        ),
    ),
    "delivery-card-key-missing": Script(
        subjects=("Card key not delivered", "Order paid, no code", "Only part of my codes arrived"),
        openings=(
            "Order {order_no} for {product} x{quantity} has been paid for an hour and still says 'awaiting delivery'.",
            "Hi, I only received some of the codes for order {order_no}. Can you send the rest?",
            "Automatic delivery didn't work for order {order_no}. I paid {amount} already.",
        ),
        agent_first=(
            "Hi {name}, this is {agent}. I've found order {order_no} and I'm checking stock and the delivery log.",
            "Hello {name}, thanks for your patience. The delivery job for this order is stuck; I'm on it.",
        ),
        agent_ask=(
            "Could you confirm the e-mail address you used at checkout "
            "and check your spam folder for our delivery e-mail?",
            "Does the 'Get card key' button on the order page open? If it shows an error, please send a screenshot.",
        ),
        follow_ups=(
            "The e-mail is correct and there's nothing in spam.",
            "It says 'order status error'. Screenshot attached.",
        ),
        notes=(
            "Auto-delivery failed on low stock; merchant restocked, delivered manually.",
            "Delivery task timed out; re-triggered successfully, key count matches the order.",
        ),
        resolutions=(
            "Hi {name}, the codes for order {order_no} have been "
            "delivered. Open the order page and click 'Get card key'.",
            "I've delivered the order manually; the codes are in "
            "your e-mail and on the order page. Sorry for the wait!",
        ),
    ),
    "product-invalid-key": Script(
        subjects=("Code already redeemed", "Invalid card key", "{product} code doesn't work"),
        openings=(
            "The code {card_key} from order {order_no} says 'already redeemed'. I have never used it!",
            "Hi, the key I got for order {order_no} is invalid: {card_key}. Please replace it.",
            "Tried to redeem {card_key} at {redeem} and it failed. Order {order_no}.",
        ),
        agent_first=(
            "Hi {name}, {agent} here. I'm checking this code's history "
            "with our supplier. Please don't retry it meanwhile.",
            "Hello {name}, we need to verify this key with the supplier; it usually takes 10-30 minutes.",
        ),
        agent_ask=(
            "Please send a full screenshot of the error (with the time) and tell us which region your account is in.",
            "Could you confirm your account region matches the card's region and share the error screenshot?",
        ),
        follow_ups=("Screenshot attached. My account is US, same as the card.", "I only tried once, I didn't use it."),
        notes=(
            "Supplier: key was consumed before delivery. Supply issue; spot-check the rest of the batch.",
            "Supplier says the key is valid; customer used the wrong region. Guided them.",
        ),
        resolutions=(
            "Hi {name}, the supplier confirmed the problem. I've "
            "replaced the code for order {order_no}; see the order page.",
            "The key is valid: the account region didn't match. Redeem "
            "it via {redeem} with a matching account and it will work.",
        ),
    ),
    "product-out-of-stock": Script(
        subjects=("Out of stock after payment", "When will {product} be restocked?", "Refund for out-of-stock item"),
        openings=(
            "Order {order_no}: after paying it said out of stock. "
            "When will {product} be back? Otherwise refund please.",
            "I paid {amount} for {product} but it shows out of stock. Order {order_no}.",
        ),
        agent_first=(
            "Hi {name}, {agent} here. {product} is being restocked; let me check the expected time for you.",
            "Sorry {name}, this item is temporarily out of stock. I've flagged order {order_no}.",
        ),
        agent_ask=(
            "Would you like to wait for the restock (usually within 24 hours) or get a full refund?",
            "Please let us know: wait for stock, or switch to another card of the same value?",
        ),
        follow_ups=("I'll wait, but please be quick.", "Please just refund me."),
        notes=(
            "Merchant restocks tonight; order added to the priority list.",
            "Supplier out; merchant approved a full refund.",
        ),
        resolutions=(
            "Hi {name}, {product} is back in stock and order {order_no} has been delivered.",
            "Refunded {amount} to your original payment method as requested; order {order_no} is closed.",
        ),
    ),
    "refund": Script(
        subjects=("Refund request", "Where is my refund?", "Bought the wrong region, can I get a refund?"),
        openings=(
            "I bought the wrong region for order {order_no}. I haven't revealed the code. Can I get a refund?",
            "You promised a refund for {order_no} but {amount} hasn't arrived on {channel} yet.",
            "Delivery failed for {product}, please refund order {order_no}.",
        ),
        agent_first=(
            "Hi {name}, {agent} here. Let me check the refund status of order {order_no}.",
            "Hello {name}, I've received your refund request and I'm checking whether the code was revealed.",
        ),
        agent_ask=(
            "Digital codes can only be refunded if unused. Please "
            "send a screenshot showing the code was never revealed.",
            "Please confirm the refund should go back to the same {channel} account you paid with.",
        ),
        follow_ups=(
            "Never revealed it, screenshot attached.",
            "Yes, the same account.",
            "How long does approval take?",
        ),
        notes=(
            "Code never revealed; eligible. Sent to the merchant for approval.",
            "Refund initiated at the channel; processing.",
        ),
        resolutions=(
            "Hi {name}, the refund of {amount} for order {order_no} "
            "is complete. It should show up in 1-3 business days.",
            "Your refund has been approved and sent. Thanks for your patience!",
        ),
    ),
    "account-security": Script(
        subjects=("My account was hacked", "Login from an unknown location", "Someone placed orders on my account"),
        openings=(
            "I got a login alert from another country and there are orders I didn't make. Please lock my account!",
            "I changed my phone number ({phone}) and can't receive the verification code anymore. How do I log in?",
        ),
        agent_first=(
            "Hi {name}, this is {agent}. For your safety we've temporarily "
            "blocked new orders and code reveals on the account.",
            "Hello {name}, we treat account security first. Never share verification codes with anyone, including us.",
        ),
        agent_ask=(
            "To verify it's you, please reply with your sign-up e-mail "
            "and the order number of your last legitimate purchase.",
            "Please tell us roughly when you registered and where you usually log in from.",
        ),
        follow_ups=(
            "Sign-up e-mail is this one; my last order was a Steam card last week.",
            "Registered last year, usually from Singapore.",
        ),
        notes=(
            "Login log: repeated attempts from foreign IPs. All sessions revoked, password reset forced.",
            "Identity verified; phone binding updated, suspicious orders passed to risk control.",
        ),
        resolutions=(
            "Hi {name}, you're verified. The password has been reset "
            "and the block lifted; please enable two-factor login.",
            "The suspicious orders have been handled and your account is back to normal.",
        ),
    ),
    "merchant-settlement": Script(
        subjects=(
            "Consignment payout not received",
            "Settlement {settle_no} amount is wrong",
            "Withdrawal stuck in review",
        ),
        openings=(
            "I'm a consignment seller. Settlement {settle_no} is past T+1 and hasn't been paid out.",
            "The amount on settlement {settle_no} doesn't match my sales report, it's short. Please check.",
        ),
        agent_first=(
            "Hi {name}, {agent} here. I'm going through the lines of settlement {settle_no}.",
            "Hello {name}, I've passed this to finance and I'm checking the fee breakdown meanwhile.",
        ),
        agent_ask=(
            "Please export your sales report for the same period so finance can reconcile line by line.",
            "Did your payout account change recently? A changed account must be re-verified before payout.",
        ),
        follow_ups=("Sales report exported and sent.", "Yes, I changed it last week and verified it again."),
        notes=(
            "Difference = 3 refunded orders clawed back + 2% channel fee.",
            "Verification not synced after account change; synced, payout today.",
        ),
        resolutions=(
            "Hi {name}, settlement {settle_no} has been paid out. The difference "
            "is refunds and channel fees; details are in your dashboard.",
            "Finance has sent the payout. Settlements run T+1, moved to the next working day on holidays.",
        ),
    ),
    "how-to-redeem": Script(
        subjects=("How do I redeem {product}?", "Where do I use the code?", "First time buying, need help"),
        openings=(
            "I bought {product} (order {order_no}). Where do I redeem it?",
            "Hi, first time buying a gift card. How do I use the code from order {order_no}?",
        ),
        agent_first=(
            "Hi {name}, I'm {agent}. You can redeem {product} at {redeem}: just enter the code there.",
            "Hello {name}, happy to help! Redeem it via {redeem}; make sure your account region matches the card.",
        ),
        agent_ask=(
            "Are you redeeming on a phone or a computer? I'll send the matching step-by-step guide.",
            "Which region is your account in? I'll check the card works there.",
        ),
        follow_ups=("On my phone (iPhone).", "Found it, redeemed successfully. Thanks!", "It's a US account."),
        notes=(
            "New customer; sent the illustrated guide.",
            "Worth adding this product's redeem steps to the help centre.",
        ),
        resolutions=(
            "You're welcome! I've sent you the guide; you can also search 'redeem' in our help centre anytime.",
            "Hi {name}, glad it worked. I'll close this ticket; just reply if anything comes up.",
        ),
    ),
}

PHRASEBOOK = Phrasebook(
    language="en",
    scripts=SCRIPTS,
    nudges=("Hello? Anyone there?", "Any update? It's urgent.", "Still waiting..."),
    thanks=("Got it, thank you!", "Works now, thanks a lot.", "OK, thanks."),
    reopen=(
        "Sorry, it's broken again.",
        "I tried again and it still fails.",
        "This isn't fixed, please take another look.",
    ),
    hold_replies=(
        "Hi {name}, this needs our supplier / payment channel to "
        "confirm. I've escalated it and put the ticket on hold; "
        "we'll update you as soon as we hear back.",
        "Escalated to the responsible team, expect an answer within 24 hours.",
    ),
    hold_notes=(
        "Chased the supplier in our group chat, waiting for their answer.",
        "Waiting for the finance / channel receipt; recheck tomorrow 10:00.",
    ),
    triage_notes=(
        "Looks like a payment callback issue; leave it for the payments team.",
        "Customer is upset, prioritise.",
    ),
    merchant_notes=(
        "Merchant note: new supplier for this batch, re-delivered "
        "from the back office. Please confirm with the customer.",
        "Merchant note: restocking tonight, delivery is automatic afterwards.",
    ),
)
