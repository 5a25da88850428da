mod authentication;
mod disconnect;
mod graph;
