"""The tree -> every file's facts: which files (`discover`), their parse in bounded worker processes
(`parsing`, which runs `scopeguard.facts` on each), the content-addressed fact cache (`cache`, with
its data-only `codec`), and the facts of packaging and CMake files (`packaging`, `buildopts`)."""
