"""Text handling shared by every analyzer: normalisation, tokens, lexical vectors and valence."""
