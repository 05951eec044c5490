def demo_exists():
    return False
