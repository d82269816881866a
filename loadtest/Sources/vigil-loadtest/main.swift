print("vigil-loadtest: not built yet")
