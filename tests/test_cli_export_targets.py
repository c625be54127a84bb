"""The command line of the framework exports: ``derive export --target …`` and
``derive catalogue --export …`` write exactly the source the API generates."""
import pytest

from derive import Network, export, matrix_derivative
from derive.cli.main import main

TARGETS = ("numpy", "torch", "jax", "array_api")


@pytest.mark.parametrize("target", TARGETS)
def test_export_target_writes_the_module_of_the_api(tmp_path, target):
    out = tmp_path / "grads.py"
    assert main(["export", "--widths", "3,4,2", "--activations", "tanh,softmax",
                 "--loss", "cce", "--batch", "--target", target, "-o", str(out)]) == 0
    net = Network(activations=("tanh", "softmax"), loss="cce", batch=True, widths=(3, 4, 2))
    assert out.read_text(encoding="utf-8") == export(net, target=target).source


@pytest.mark.parametrize("target", TARGETS)
def test_catalogue_export_writes_f_and_grad(tmp_path, target):
    out = tmp_path / "f.py"
    assert main(["catalogue", "--expr", "1/2 x^T A^T A x", "--wrt", "A", "--export", target,
                 "-o", str(out)]) == 0
    d = matrix_derivative("1/2 x^T A^T A x", "A")
    assert out.read_text(encoding="utf-8") == export(d, target=target).source


@pytest.mark.parametrize("args,message", [
    (["catalogue", "--expr", "y^T A x", "--wrt", "A", "--export", "torch"],
     "derive: --export needs -o FILE.py ('-' for standard output)"),
    (["catalogue", "--export", "jax", "-o", "-"],
     "derive: --export needs --expr and --wrt (the scalar and its variable)"),
    (["catalogue", "--expr", "y^T sigma(A) x", "--wrt", "A", "--export", "numpy", "-o", "-"],
     "derive: sigma is a generic function with no formula to compute; the export needs "
     "sigmoid, tanh, exp, log or sqrt"),
])
def test_bad_export_requests_are_one_line(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip() == message
