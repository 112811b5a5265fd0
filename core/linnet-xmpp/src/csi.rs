//! Client State Indication (XEP-0352): tells the server whether the user is looking, so it can
//! hold back unimportant traffic while the app is in the background.

use minidom::Element;

use crate::ns;

pub fn active() -> Element {
    Element::builder("active", ns::CSI).build()
}

pub fn inactive() -> Element {
    Element::builder("inactive", ns::CSI).build()
}
