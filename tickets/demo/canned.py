"""Canned replies (话术模板) for the demo desk: (shortcut, language) is their natural key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CannedSpec:
    shortcut: str
    language: str
    title: str
    body: str
    category: str = ""  # a category slug, or "" for any


CANNED_REPLIES = [
    # --- zh-hans
    CannedSpec("greeting", "zh-hans", "问候", "{customer.name}您好，欢迎咨询，我是您的专属客服，请问有什么可以帮您？"),
    CannedSpec(
        "check-payment",
        "zh-hans",
        "查单：已付款未到账",
        "{customer.name}您好，已收到您的反馈，正在为您核实订单 "
        "{order.order_no} 的支付回调，一般 5-10 分钟内完成，请稍候。",
        "payment-not-received",
    ),
    CannedSpec(
        "ask-receipt",
        "zh-hans",
        "索要付款截图",
        "{customer.name}您好，麻烦提供订单 {order.order_no} "
        "的付款截图（需包含商户单号和付款时间），我们收到后立即处理。",
        "payment",
    ),
    CannedSpec(
        "double-charge",
        "zh-hans",
        "重复扣款受理",
        "{customer.name}您好，订单 {order.order_no} 的重复扣款已受理，多扣款项将在 1-3 个工作日内原路退回。",
        "payment-double-charge",
    ),
    CannedSpec(
        "reissue",
        "zh-hans",
        "卡密已补发",
        "{customer.name}您好，订单 {order.order_no} 的卡密已为您补发，"
        "请在订单页点击「提取卡密」查看。给您带来不便深表歉意！",
        "delivery",
    ),
    CannedSpec(
        "invalid-key",
        "zh-hans",
        "卡密无效核实中",
        "{customer.name}您好，订单 {order.order_no} "
        "的卡密问题已提交供货方核实，10-30 分钟内给您答复，请勿重复尝试兑换。",
        "product-invalid-key",
    ),
    CannedSpec(
        "out-of-stock",
        "zh-hans",
        "缺货说明",
        "{customer.name}您好，订单 {order.order_no} 的商品暂时缺货，您可以选择等待补货（预计 24 小时内）或原路退款。",
        "product-out-of-stock",
    ),
    CannedSpec(
        "refund-done",
        "zh-hans",
        "退款完成",
        "{customer.name}您好，订单 {order.order_no} 的退款已原路退回，一般 1-3 个工作日到账，请留意查收。",
        "refund",
    ),
    CannedSpec(
        "account-lock",
        "zh-hans",
        "账号安全：已临时冻结",
        "{customer.name}您好，为保障账户安全，我们已临时限制下单和提卡操作。请提供注册邮箱和最近一笔订单号（如 "
        "{order.order_no}）核验身份。",
        "account-security",
    ),
    CannedSpec(
        "settlement-cycle",
        "zh-hans",
        "寄售结算周期",
        "{customer.name}您好，寄售结算周期为 T+1，节假日顺延；结算金额已扣除退款订单和通道费，明细见商户后台。",
        "merchant-settlement",
    ),
    CannedSpec(
        "how-to-redeem",
        "zh-hans",
        "兑换方法",
        "{customer.name}您好，订单 {order.order_no} 的卡密请在对应平台的「兑换码」入口输入，注意账号区服需与商品一致。",
        "how-to-redeem",
    ),
    CannedSpec(
        "closing",
        "zh-hans",
        "结束语",
        "{customer.name}您好，问题已为您处理完毕，如还有疑问直接回复本工单即可。祝您生活愉快！",
    ),
    # --- en
    CannedSpec("greeting", "en", "Greeting", "Hi {customer.name}, thanks for reaching out! How can I help you today?"),
    CannedSpec(
        "check-payment",
        "en",
        "Checking a payment",
        "Hi {customer.name}, I'm checking the payment callback for "
        "order {order.order_no}; this usually takes 5-10 minutes.",
        "payment-not-received",
    ),
    CannedSpec(
        "ask-receipt",
        "en",
        "Ask for the receipt",
        "Hi {customer.name}, please send a screenshot of the payment receipt for order {order.order_no} showing the "
        "transaction ID and time.",
        "payment",
    ),
    CannedSpec(
        "reissue",
        "en",
        "Code re-delivered",
        "Hi {customer.name}, the codes for order {order.order_no} "
        "have been delivered again; click 'Get card key' on the "
        "order page. Sorry for the trouble!",
        "delivery",
    ),
    CannedSpec(
        "invalid-key",
        "en",
        "Invalid key under review",
        "Hi {customer.name}, we're verifying the code from order "
        "{order.order_no} with our supplier and will reply within "
        "30 minutes. Please don't retry it meanwhile.",
        "product-invalid-key",
    ),
    CannedSpec(
        "refund-done",
        "en",
        "Refund completed",
        "Hi {customer.name}, the refund for order {order.order_no} "
        "has been sent to your original payment method; allow "
        "1-3 business days.",
        "refund",
    ),
    CannedSpec(
        "how-to-redeem",
        "en",
        "How to redeem",
        "Hi {customer.name}, enter the code from order {order.order_no} "
        "on the platform's redeem page; your account region "
        "must match the card's region.",
        "how-to-redeem",
    ),
    CannedSpec(
        "closing",
        "en",
        "Closing",
        "Hi {customer.name}, glad we could sort this out. Just reply to this ticket if anything else comes up!",
    ),
]
