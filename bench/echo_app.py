"""Baseline for the webhook benchmark: the least a Flask app can do for Twilio. POST /twilio/sms
answers TwiML that echoes the Body; no signature check, no storage, no flows."""
from flask import Flask, Response, request
from twilio.twiml.messaging_response import MessagingResponse


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/twilio/sms")
    def echo():
        response = MessagingResponse()
        response.message(request.form.get("Body", ""))
        return Response(response.to_xml(), mimetype="application/xml")

    return app
