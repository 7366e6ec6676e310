"""Verify: a hand-written formula read, judged, and explained.

The formula parser (it can only build mathematics), the reader that binds its
names to the network, exact and numeric judging, the registry of typical
mistakes, and the verdict's words.
"""

from derive.verify.verdict import Verdict, verify

__all__ = ["Verdict", "verify"]
