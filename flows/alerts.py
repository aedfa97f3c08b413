"""What on-call staff are texted. Alerts say what happened, never who texted or what they wrote."""
from enum import Enum


class Alert(str, Enum):
    CRISIS = "crisis"
    CALLBACK = "callback"
    ESCALATION = "escalation"
    CRISIS_UNCLAIMED = "crisis_unclaimed"


TEXTS = {
    Alert.CRISIS: "URGENT {program}: a text mentioned overdose or suicide. We replied with 911 and 988. "
                  "Please open the staff console now.",
    Alert.CALLBACK: "{program}: someone asked for a call back. Please check the callbacks queue in the staff console.",
    Alert.ESCALATION: "{program}: a call back has waited over 15 minutes unclaimed. Please claim it in the staff "
                      "console.",
    Alert.CRISIS_UNCLAIMED: "URGENT {program}: a crisis has waited 10 minutes with no owner. Please open the staff "
                            "console now and claim it.",
}
