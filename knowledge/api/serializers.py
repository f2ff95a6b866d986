"""Input serializers validate shape (field-named errors); the output is built from selectors' dicts."""

from rest_framework import serializers


class SuggestInput(serializers.Serializer):
    # Clients may send a whole subject and the start of a description; only the first 200 characters are used.
    q = serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=True)
    # zh-hans or en; browser variants (zh-CN, zh_Hans, en-US) are read as the content language they mean.
    lang = serializers.CharField(max_length=20, required=False)
    shop = serializers.SlugField(max_length=60, required=False, allow_blank=True)  # blank: as if absent
    limit = serializers.IntegerField(min_value=1, max_value=10, default=5)

    def validate_q(self, value: str) -> str:
        return value[:200]

    def validate_lang(self, value: str) -> str:
        folded = value.strip().lower().replace("_", "-")
        if folded.startswith("zh"):
            return "zh-hans"
        if folded.startswith("en"):
            return "en"
        raise serializers.ValidationError("Use zh-hans or en.")


class SuggestHitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    snippet = serializers.CharField()
    snippet_html = serializers.CharField()
    url = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField()
