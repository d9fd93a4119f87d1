"""The helpers every benchmark in bench/ shares; CI's smoke run (.ci/bench-smoke) runs the benchmarks themselves."""

from bench import run


def test_load_average_is_the_three_figures_of_proc_loadavg():
    figures = run.load_average().split()

    assert len(figures) == 3
    assert all(float(figure) >= 0 for figure in figures)
