"""What the machine can give: memory checked before a large allocation, so that a value too
large to serve is refused up front, in one line, instead of ending in a MemoryError or the
system's out-of-memory killer."""

from common.errors import UserError

# Of the memory the system says it can still give: room for TensorFlow and the rest.
USABLE_FRACTION = 0.8


def available_memory_bytes():
    """Memory the system can still give (MemAvailable), or None where it cannot tell."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def require_memory(needed_bytes, what, fix):
    """:class:`UserError` unless ``needed_bytes`` fit: "``what`` would take about X GiB of
    memory; Y GiB is available; ``fix``"."""
    available = available_memory_bytes()
    if available is not None and needed_bytes >= USABLE_FRACTION * available:
        raise UserError(f"{what} would take about {needed_bytes / 2 ** 30:.1f} GiB of memory; "
                        f"{available / 2 ** 30:.1f} GiB is available; {fix}")
