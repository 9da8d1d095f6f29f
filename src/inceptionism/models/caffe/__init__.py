"""Caffe models without Caffe: ``.caffemodel`` weights, ``deploy.prototxt`` networks, the 2015 GoogLeNets.

>>> from inceptionism.models.caffe.prototxt import parse_prototxt
>>> parse_prototxt('name: "tiny" input_dim: 1')
{'name': ['tiny'], 'input_dim': [1]}
"""
