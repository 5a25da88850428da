mod disconnect;
mod logs;
