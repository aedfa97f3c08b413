"""TwiML answers: the replies to a text go back in the webhook's HTTP answer."""
from functools import lru_cache

from twilio.twiml.messaging_response import MessagingResponse


@lru_cache(maxsize=256)
def render(replies: tuple[str, ...]) -> str:
    """The same few texts go out again and again, so answers are cached."""
    response = MessagingResponse()
    for text in replies:
        response.message(text)
    return response.to_xml()
