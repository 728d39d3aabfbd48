"""Helpers of the siprecd integration suite: SIP messages and clients, RTP sender,
audio generation/analysis, SIPp runner, siprecd process management."""
