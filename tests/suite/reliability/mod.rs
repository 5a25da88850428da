mod fault_matrix;
mod races;
mod slow;
