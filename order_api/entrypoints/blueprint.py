"""flask-smorest's Blueprint, parsing with webargs so that invalid input is a 400, as DESIGN.md says."""
import flask_smorest
from webargs.flaskparser import FlaskParser


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()
