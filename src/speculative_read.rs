//! A read started under a guessed key while the real key is still being
//! looked up, so that it adds no step to the work beside it. The disconnect
//! asks the code graph under the requested repository name while it finds
//! the installation; graph lookups are exact, so when the stored name
//! differs (in case), the graph is asked again under it.

use std::future::Future;

use tokio::sync::oneshot;

/// The guess, and where the real key will come from.
pub struct SpeculativeRead {
    guess: String,
    confirmed: oneshot::Receiver<String>,
}

impl SpeculativeRead {
    pub fn new(guess: String, confirmed: oneshot::Receiver<String>) -> Self {
        Self { guess, confirmed }
    }

    /// `read` under the guess at once; then the answer under the real key:
    /// the guess's when they are the same, a second `read` when they
    /// differ. `None` when no real key comes (the work beside it failed):
    /// the guess's answer is dropped unread.
    pub async fn run<T, F, Fut>(self, read: F) -> Option<(String, T)>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = T>,
    {
        let Self {
            guess,
            mut confirmed,
        } = self;
        let mut under_guess = Box::pin(read(guess.clone()));
        // Whichever comes first, the other is awaited.
        let (key, early_answer) = tokio::select! {
            key = &mut confirmed => (key.ok()?, None),
            answer = &mut under_guess => (confirmed.await.ok()?, Some(answer)),
        };
        let answer = if key != guess {
            drop(under_guess);
            read(key.clone()).await
        } else if let Some(answer) = early_answer {
            answer
        } else {
            under_guess.await
        };
        Some((key, answer))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A read that answers with the key it was asked under, and the keys
    /// asked, in order.
    fn recorded() -> (
        Arc<Mutex<Vec<String>>>,
        impl Fn(String) -> std::future::Ready<String>,
    ) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let read = move |key: String| {
            log.lock().unwrap().push(key.clone());
            std::future::ready(format!("answer under {key}"))
        };
        (asked, read)
    }

    /// A guess of `acme/web`: the answer is the real key's, read once when
    /// the guess was right and again under the real key when it was wrong.
    #[tokio::test]
    async fn the_answer_is_the_real_keys_and_a_wrong_guess_is_read_again() {
        for (key, keys_asked) in [
            ("acme/web", vec!["acme/web"]),
            ("Acme/Web", vec!["acme/web", "Acme/Web"]),
        ] {
            let (asked, read) = recorded();
            let (confirm, confirmed) = oneshot::channel();
            confirm.send(key.to_owned()).unwrap();

            let answer = SpeculativeRead::new("acme/web".into(), confirmed)
                .run(read)
                .await;

            let expected = (key.to_owned(), format!("answer under {key}"));
            assert_eq!(answer, Some(expected), "{key}");
            assert_eq!(*asked.lock().unwrap(), keys_asked, "{key}");
        }
    }

    #[tokio::test]
    async fn no_real_key_gives_nothing() {
        let (_, read) = recorded();
        let (confirm, confirmed) = oneshot::channel::<String>();
        drop(confirm);

        let answer = SpeculativeRead::new("acme/web".into(), confirmed)
            .run(read)
            .await;

        assert_eq!(answer, None);
    }

    #[tokio::test]
    async fn a_key_confirmed_after_the_guess_answered_keeps_that_answer() {
        let (asked, read) = recorded();
        let (confirm, confirmed) = oneshot::channel();
        let confirming = async {
            tokio::task::yield_now().await;
            confirm.send("acme/web".to_owned()).unwrap();
        };

        let (answer, ()) = tokio::join!(
            SpeculativeRead::new("acme/web".into(), confirmed).run(read),
            confirming
        );

        assert_eq!(
            answer,
            Some(("acme/web".into(), "answer under acme/web".into()))
        );
        assert_eq!(*asked.lock().unwrap(), ["acme/web"]);
    }
}
