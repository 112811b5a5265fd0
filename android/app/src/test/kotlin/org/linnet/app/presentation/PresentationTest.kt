package org.linnet.app.presentation

fun main() {
    println("placeholder")
}
