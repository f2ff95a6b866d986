"""Input serializers validate shape; output serializers decide what leaves (masked secrets, no notes for customers)."""

from rest_framework import serializers

from tickets.models import Message, Priority, Status, Ticket


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class TicketListOutput(serializers.ModelSerializer):
    queue = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    assignee = UserRefSerializer(read_only=True)
    customer = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "reference",
            "subject",
            "status",
            "priority",
            "channel",
            "shop",
            "queue",
            "category",
            "assignee",
            "customer",
            "language",
            "created_at",
            "updated_at",
            "last_seq",
        ]

    def get_customer(self, ticket: Ticket) -> dict:
        customer = ticket.customer
        return {
            "external_id": customer.external_id,
            "name": customer.name,
            "tier": customer.tier,
            "phone": str(customer.phone) if customer.phone else "",  # Secret prints masked
        }


class OrderOutput(serializers.Serializer):
    order_no = serializers.CharField()
    product = serializers.CharField()
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    payment_status = serializers.CharField()
    delivery_status = serializers.CharField()
    card_keys = serializers.SerializerMethodField()

    def get_card_keys(self, order) -> list[str]:
        return str(order.card_keys).splitlines() if order.card_keys else []


class TicketDetailOutput(TicketListOutput):
    order = OrderOutput(read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    sla = serializers.SerializerMethodField()

    class Meta(TicketListOutput.Meta):
        fields = [
            *TicketListOutput.Meta.fields,
            "order",
            "tags",
            "first_response_at",
            "solved_at",
            "sla",
            "intent",
            "intent_confidence",
            "sentiment",
        ]

    def get_sla(self, ticket: Ticket) -> dict:
        """Due times of the running clocks (null when met, paused or not covered) and whether one was breached."""
        return {
            "policy": ticket.sla_policy_id,
            "first_response_due_at": ticket.sla_first_response_due_at,
            "next_response_due_at": ticket.sla_next_response_due_at,
            "resolution_due_at": ticket.sla_resolution_due_at,
            "breached": ticket.sla_breached,
        }


class MessageOutput(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["seq", "author", "body", "is_internal", "channel", "client_msg_id", "created_at"]

    def get_author(self, message: Message) -> dict:
        return {"kind": message.author_kind, "name": message.author_name}


class MessageInput(serializers.Serializer):
    KINDS = ("reply", "note", "customer")
    kind = serializers.ChoiceField(choices=KINDS, default="reply")
    body = serializers.CharField(max_length=20000, trim_whitespace=False)
    client_msg_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class AssignInput(serializers.Serializer):
    assignee = serializers.IntegerField(allow_null=True)


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)


class TicketUpdateInput(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False)
    queue = serializers.SlugField(required=False, allow_null=True)
    category = serializers.SlugField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=30)
