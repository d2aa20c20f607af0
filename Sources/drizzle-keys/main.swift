print("keys")
