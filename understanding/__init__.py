"""Reading what people write, as they write it: a crisis model learned from the corpus beside this
package (`make model`), and the language of a text. Pure: the model is data loaded once per process."""
