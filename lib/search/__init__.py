"""Search at test time, all returning a `Trajectory` (`trajectory`): continuous routines on an
energy's candidates (`continuous`) and discrete local search over pointers (`pointers`)."""
