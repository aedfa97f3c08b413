"""What the crisis model sees of a text, in two blocks: its words and word pairs, and its letter
sequences of 3 to 5 (across the spaces too, so "breathng", "breathing" and "no respira" share most of
what they are made of). Counts per block; the model weighs them (tf-idf) and scores them."""
from collections import Counter

from understanding.text import normalize

CHAR_SIZES = (3, 4, 5)


def blocks(text: str) -> tuple[Counter, Counter]:
    """(word and word-pair counts, letter-sequence counts): the same function for training and reading."""
    plain = normalize(text)
    tokens = plain.split()
    words = Counter(tokens)
    words.update(a + " " + b for a, b in zip(tokens, tokens[1:]))
    letters = Counter(plain[i:i + size] for size in CHAR_SIZES for i in range(len(plain) - size + 1))
    return words, letters
