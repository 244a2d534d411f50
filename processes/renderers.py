"""How the API writes its answers."""

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer; data holding a lone surrogate, which UTF-8 cannot encode, is sent with \\u escapes.

    The API refuses such text on the way in, but a connector's answer or a row
    written before that check can still hold it; its readers must not fail.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            return super().render(data, accepted_media_type, renderer_context)


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's HTML pages for the API, without code highlighting's inline <style>, which the CSP refuses."""

    def get_context(self, data, accepted_media_type, renderer_context):
        context = super().get_context(data, accepted_media_type, renderer_context)
        context["code_style"] = None
        return context
