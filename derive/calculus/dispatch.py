"""Dispatch on a node's class, as both evaluators (`derive.calculus.evaluate`, SymPy
values; `derive.calculus.numeric_matrix`, mpmath values) do: a call on a node runs the
``_eval_<Class>`` method of the most specific class in its MRO that has one, else
``_eval_default``; the choice is kept per node type and per subclass."""


class ByNodeClass:
    """Base of an evaluator: ``self(node)`` dispatches as the module docstring says."""

    _methods = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._methods = {}

    def __call__(self, e):
        name = self._methods.get(type(e))
        if name is None:
            name = next((f"_eval_{k.__name__}" for k in type(e).__mro__
                         if hasattr(self, f"_eval_{k.__name__}")), "_eval_default")
            self._methods[type(e)] = name
        return getattr(self, name)(e)
