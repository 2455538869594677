"""The hotline: the operator API, the operator console and transcript import."""
