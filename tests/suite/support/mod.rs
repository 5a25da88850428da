pub mod fakes;
pub mod jwt;
pub mod use_case;
