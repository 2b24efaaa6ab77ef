print("vigie")
