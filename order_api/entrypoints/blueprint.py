"""flask-smorest's Blueprint, parsing with webargs so that invalid input is a 400, as DESIGN.md says,
and documenting the 413 every JSON body can get."""
import flask_smorest
from webargs.flaskparser import FlaskParser

from order_api.entrypoints.views import ErrorResponse


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *, location="json", **kwargs):
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse
        too_large = self.alt_response(413, schema=ErrorResponse, description="PAYLOAD_TOO_LARGE")
        return lambda view: too_large(parse(view))
