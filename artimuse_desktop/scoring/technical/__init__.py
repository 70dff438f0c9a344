"""Built-in technical analyzer: sharpness, exposure, noise, colour, tilt and thirds; numpy and Pillow only.

Kept light: importing the package imports nothing; the registry imports ``backend`` when it is chosen.
"""
