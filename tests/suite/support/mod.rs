pub mod events;
pub mod fakes;
pub mod fault_proxy;
pub mod jwt;
pub mod logs;
pub mod moto;
pub mod use_case;
pub mod world;
