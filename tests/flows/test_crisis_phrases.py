"""flows.crisis.is_crisis: overdose and suicide language is caught; everyday words are not."""
import pytest

from understanding.phrases import is_crisis


@pytest.mark.parametrize("text", [
    # overdose
    "overdose", "Overdose!!", "OVERDOSED", "overdosed", "my son overdosed", "she is overdosing", "overdoses",
    "over dose", "over\u00a0dose",
    "OD", "od", "he OD'd", "he OD\u2019d", "she ODed", "ODing", "he is OD-ing", "OD'ed", "i think he OD.",
    "#OD", "o.d.", "O.D.", "ＯＤ",
    "he over-dosed",
    "she killed herself",
    "I'm going to kill my self",
    "i dont want to live anymore",
    # not breathing, unresponsive, blue
    "not breathing", "he is not breathing", "isn't breathing", "isnt breathing", "isn\u2019t breathing",
    "is not breathing", "stopped breathing", "Stopped Breathing", "can't breathe", "cant breathe",
    "cannot breathe", "won't wake up", "he won't wake up", "won\u2019t wake up", "he wont wake up",
    "will not wake up", "cant wake him", "can't get him up", "cannot wake her", "he wont get up",
    "unresponsive", "she's unresponsive.", "lips are blue", "his lips are blue", "lips turning blue",
    "face is blue", "skin turned blue",
    # suicide and self-harm
    "suicide", "SUICIDE", "suicidal", "I feel suicidal", "i want to kill myself", "killing myself",
    "gonna kill myself", "she wants to kill herself", "want to die", "I want to die.", "want  to  die",
    "i wanna die", "better off dead", "i want to hurt myself", "end my life", "end it all",
    "i want to end it all",
    # crisis words after a keyword
    "CALL my son overdosed and is not breathing", "signs of overdose", "treatment? i'm suicidal",
    # phrases found by an adversarial review
    "son took too many pills", "I took too many pills", "she swallowed a bottle of pills",
    "I'm going to take all my pills", "I'm going to end it", "I feel like ending it all", "kms", "he is blue",
    "she's turning blue", "i can't go on", "mi hijo tuvo una overdosis", "quiero desaparecer",
])
def test_crisis_detected(text):
    assert is_crisis(text)


@pytest.mark.parametrize("text", [
    "that's odd", "odd", "Odd", "odds", "good", "god", "GOD bless", "signs", "treatment", "call me", "stop",
    "STOP", "hello", "help", "", "🙏",
    "methodology", "body", "period", "code", "mode", "food", "nod", "prod", "episode", "odor", "Odessa",
    "ODE to joy", "cod",
    "dose", "dosage", "dosed", "over", "overdo it", "overdone", "overdue", "my kid is overdue",
    "breathe", "deep breath", "breathing exercises", "i can breathe", "not breaking", "stop breaking",
    "blue", "the sky is blue", "my lips", "lipstick blue",
    "killer", "skill", "kill", "killing time", "die hard", "studied", "I want to diet", "I'm dying to know",
    "dead tired", "hurt my back", "end", "wake up", "he won't eat", "suite", "suit", "unstoppable",
    "the view was not breathtaking", "feeling blue today", "I take my pills every morning",
    "the blue one", "I can go on", "at the end of it", "skms",
    "she can't go on methadone without insurance", "can't go on suboxone at work?", "I can't go on vacation",
    "did he take all of his meds today", "I take all my meds every day", "he's taking all of his medication now",
    "he took a bunch of his meds to the pharmacy", "they are blue collar workers", "he's blue about losing his job",
    "I want to end it with my boyfriend", "I can't get her to stop texting me", "can't get him to call back", "I'm going to end it with him", "the clinic is 40 kms away",
    "it's not breathable fabric",
])
def test_not_crisis(text):
    assert not is_crisis(text)
