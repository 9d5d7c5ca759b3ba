//! What a program that drives `edge` processes needs and nothing more: the control API's
//! client and wire types (`control`), and the `ready k=v …` line every `edge` process prints
//! once it serves (`process`). Depends on nothing else of ours, so the benchmarks, the tests
//! and `edge up` reach the product only through its processes and HTTP.

pub mod control;
pub mod process;
pub mod tls;
