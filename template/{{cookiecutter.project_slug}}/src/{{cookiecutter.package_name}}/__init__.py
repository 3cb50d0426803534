"""{{ cookiecutter.description | wordwrap(88) }}"""

__version__ = "0.1.0"
