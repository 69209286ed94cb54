"""How results are shown: reports of findings (`report`: text, JSON, SARIF, GitHub), views of the
graph (`render`: DOT, Mermaid, JSON, HTML) and the links to scopeguard's own documentation."""
