"""Centers: where respite happens and the kiosks stand; coordinators list, create and edit them."""
