//! layout-core: the workspace library of the layout-gate fixture. `Elem` decides which instance of
//! `Ring` the app holds: editing `Width`'s `Value` changes the app's layout through a type alias
//! in another crate (an associated type, which the source analysis does not follow).

/// Picks the ring's element type.
pub trait Pick {
    type Value: Copy + Default;
}

pub struct Width;

impl Pick for Width {
    type Value = u32;
}

/// The element type of the app's ring.
pub type Elem = <Width as Pick>::Value;

/// A small ring of values; `Ring<u32>` and `Ring<u64>` are different types with different layouts.
pub struct Ring<T> {
    pub slots: [T; 4],
    pub head: usize,
}

impl<T: Copy + Default> Ring<T> {
    pub fn new() -> Self {
        Ring { slots: [T::default(); 4], head: 0 }
    }

    pub fn push(&mut self, v: T) {
        self.slots[self.head % 4] = v;
        self.head += 1;
    }
}
