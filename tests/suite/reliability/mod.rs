mod aws_errors;
mod fault_matrix;
mod races;
mod slow;
