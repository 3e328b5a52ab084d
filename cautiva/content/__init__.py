"""Portal texts operators edit per language and point: terms of use, risk-prevention message."""
