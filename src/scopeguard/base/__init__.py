"""The vocabulary every layer shares, importing nothing of scopeguard: the frozen facts, config and
findings (`model`), module names and paths (`paths`), safe reading of files the tree may have
planted (`safeio`) and a small ordered directed graph (`digraph`)."""
