"""Text handling shared by every analyzer: normalisation, tokens, lexical vectors and valence."""

import logging

import jieba

jieba.setLogLevel(logging.WARNING)
