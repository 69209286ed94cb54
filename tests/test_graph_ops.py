"""scopeguard.analysis.graph.Digraph: the walks deletion, the graph views, the layout and the config share."""

from __future__ import annotations

from scopeguard.base.digraph import Digraph, chain


def test_nearest_backwards_follows_the_best_ranked_link_of_the_shortest_length():
    # a -> b -> x, a -> c -> y, d -> a: walking back from {x, y}, a is reached from b and c at
    # the same length; the smaller rank wins. Ignored links are not walked.
    g: Digraph[str, int] = Digraph()
    for source, target, rank in [("a", "b", 5), ("a", "c", 1), ("b", "x", 0), ("c", "y", 0), ("d", "a", 0), ("e", "x", -1)]:
        g.add_edge(source, target, rank)
    nearest = g.nearest_backwards({"x", "y"}, lambda s, t, rank: None if s == "e" else (rank, f"{s}->{t}"))
    assert nearest == {"b": ("x", "b->x"), "c": ("y", "c->y"), "a": ("c", "a->c"), "d": ("a", "d->a")}
    assert chain("d", nearest) == ("d", "a", "c", "y")


def test_shortest_paths_keep_to_the_followed_edges():
    g = Digraph.of("abcd", [("a", "b"), ("b", "c"), ("a", "d"), ("d", "c")])
    assert g.shortest_paths("a", lambda s, t, _: True) == {"a": ["a"], "b": ["a", "b"], "d": ["a", "d"], "c": ["a", "b", "c"]}
    assert g.shortest_paths("a", lambda s, t, _: t != "b") == {"a": ["a"], "d": ["a", "d"], "c": ["a", "d", "c"]}
    assert g.shortest_paths("z", lambda s, t, _: True) == {}


def test_within_counts_hops_either_way_and_skips_what_is_not_allowed():
    g = Digraph.of("abcde", [("a", "b"), ("c", "b"), ("c", "d"), ("e", "d")])
    assert g.within({"b"}, 1) == {"b": 0, "a": 1, "c": 1}
    assert g.within({"b"}, 2) == {"b": 0, "a": 1, "c": 1, "d": 2}
    assert g.within({"b"}, 3, allowed=lambda n: n != "c") == {"b": 0, "a": 1}


def test_collapse_merges_groups_and_drops_edges_inside_one():
    g: Digraph[str, str] = Digraph()
    for source, target in [("p.a", "p.b"), ("p.a", "q.x"), ("p.b", "q.y"), ("q.x", "p.a")]:
        g.add_edge(source, target, f"{source}>{target}")
    members, collapsed = g.collapse(lambda n: n.split(".")[0])
    assert members == {"p": ["p.a", "p.b"], "q": ["q.x", "q.y"]}
    assert list(collapsed.edges()) == [("p", "q", ["p.a>q.x", "p.b>q.y"]), ("q", "p", ["q.x>p.a"])]


def test_layers_break_cycles_where_the_walk_meets_them():
    g = Digraph.of("abcd", [("a", "b"), ("b", "c"), ("c", "a"), ("a", "d"), ("d", "d")])
    assert g.layers("abcd") == {"a": 0, "b": 1, "c": 2, "d": 1}


def test_find_cycle_starts_at_the_earliest_node():
    g = Digraph.of("abc", [("a", "b"), ("b", "c"), ("c", "b")])
    assert g.find_cycle(["c", "b", "a"]) == ["c", "b", "c"]
    assert g.find_cycle(["a", "b", "c"]) == ["b", "c", "b"]
    assert Digraph.of("ab", [("a", "b")]).find_cycle(["a", "b"]) == []
