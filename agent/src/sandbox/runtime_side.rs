//! What the Runtime API asks of the sandbox: the next event, and the runtime's answers.

use std::time::Instant;

use super::*;

impl Sandbox {
    /// The runtime of `generation` asks for its next event: this ends its init, or the
    /// invocation it replied to. `None` when the generation is no longer the live one.
    pub async fn next(&self, generation: u64) -> Option<Event> {
        {
            let mut state = self.lock();
            if !state.live(generation) {
                return None;
            }
            if let Init::Running { runtime_ready, .. } = &mut state.init {
                *runtime_ready = true;
            }
            self.settle_init(&mut state);
            if let Some(current) = state.current.as_mut()
                && current.generation == generation
                && current.replied_at.is_some()
            {
                current.finished = true;
            }
        }
        self.changed();
        self.wait_for(None, |s| {
            if !s.live(generation) {
                return Some(None);
            }
            let current = s.current.as_mut()?;
            if current.generation != generation {
                return None;
            }
            let event = current.event.take()?;
            current.delivered = Some(Instant::now());
            Some(Some(event))
        })
        .await
        .flatten()
    }

    /// Whether `id` is the invocation the runtime of `generation` may reply to now.
    pub fn may_reply(&self, generation: u64, id: &str) -> Result<(), Refusal> {
        let state = self.lock();
        match state.current.as_ref() {
            Some(c) if c.generation == generation && c.id == id && c.delivered.is_some() => {
                if c.replied_at.is_some() {
                    Err(Refusal::InvalidStateTransition)
                } else {
                    Ok(())
                }
            }
            _ => Err(Refusal::InvalidRequestId),
        }
    }

    /// The runtime's reply to invocation `id`.
    pub fn reply(&self, generation: u64, id: &str, reply: Reply) -> Result<(), Refusal> {
        self.may_reply(generation, id)?;
        if let Some(current) = self.lock().current.as_mut() {
            current.reply = Some(reply);
            current.replied_at = Some(Instant::now());
        }
        self.changed();
        Ok(())
    }

    /// A streamed response ended: the handler's time runs to here.
    pub fn stream_ended(&self, generation: u64, id: &str) {
        if let Some(current) = self.lock().current.as_mut()
            && current.generation == generation
            && current.id == id
        {
            current.replied_at = Some(Instant::now());
        }
        self.changed();
    }

    /// The runtime could not initialise: the error is served to the invocation that waits for
    /// the init, or to the next one.
    pub fn init_error(&self, generation: u64, error: ErrorReport) -> Result<(), Refusal> {
        let mut state = self.lock();
        if !state.live(generation) || !matches!(state.init, Init::Running { .. }) {
            return Err(Refusal::InvalidStateTransition);
        }
        state.init = Init::Failed { error };
        drop(state);
        self.changed();
        Ok(())
    }
}
