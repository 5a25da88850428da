mod fault_matrix;
mod races;
