"""Running one function in several threads at once, for the thread-safety tests."""

import threading


def run_in_threads(fn, n: int) -> list:
    """Calls fn(i) for i < n, all in parallel threads; returns the results in order and re-raises
    the first exception any thread met."""
    results, errors = [None] * n, []

    def work(i):
        try:
            results[i] = fn(i)
        except Exception as e:  # re-raised below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
