"""jieba segmentation with our user dictionary, loaded once and lazily.

Loading jieba's dictionary costs about a second, so the `Segmenter` is built by the
composition root and either warmed at start-up (`warm()`) or on its first use; never
per call. Each Segmenter owns its own `jieba.Tokenizer`, so nothing is global.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba
import jieba.posseg


class Segmenter:
    def __init__(self, user_dict: Path | None = None, extra_words: Iterable[str] = ()) -> None:
        self._user_dict = user_dict
        self._extra_words = tuple(extra_words)
        self._tokenizer: jieba.Tokenizer | None = None
        self._tags: dict[str, str] = {}
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Load the dictionaries now (at start-up) rather than on the first call."""
        self._get()

    def _get(self) -> jieba.Tokenizer:
        tokenizer = self._tokenizer
        if tokenizer is not None:
            return tokenizer
        with self._lock:
            if self._tokenizer is None:
                # jieba announces its dictionary load at DEBUG on its own stderr handler.
                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                if self._user_dict is not None:
                    tk.load_userdict(str(self._user_dict))
                for word in self._extra_words:
                    tk.add_word(word, freq=2000)
                # Part-of-speech of dictionary words, looked up per token (running the
                # full posseg cut would cost ~7 ms per utterance).
                tags = dict(jieba.posseg.POSTokenizer(tk).word_tag_tab)
                for word in self._extra_words:
                    tags[word] = "ns"
                self._tags = tags
                self._tokenizer = tk
            return self._tokenizer

    def tag(self, word: str) -> str | None:
        """jieba's part of speech for a dictionary word; None for words it does not know."""
        self._get()
        return self._tags.get(word)

    def cut(self, text: str) -> list[str]:
        return list(self._get().cut(text, HMM=True))
