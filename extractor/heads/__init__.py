"""Small trained heads (weights shipped as ``.npz``, scored with numpy) and the scripts that train them."""
