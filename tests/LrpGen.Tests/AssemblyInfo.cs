// The leak checks read TorchSharp's process-wide count of live tensors: tests must not run concurrently.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
