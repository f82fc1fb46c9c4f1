"""The counter: redeem any code a shopper shows and hand over what it stands for."""
